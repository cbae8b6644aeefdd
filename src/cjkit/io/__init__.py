"""Reading events and writing results: event sources (files, formats, time parsing) and the
atomic output writer."""
