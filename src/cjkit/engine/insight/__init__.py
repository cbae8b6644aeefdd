"""Phase-2 insight on journey tables: period comparisons, segments, trends, findings."""
