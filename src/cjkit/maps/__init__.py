"""Stage models and journey maps: the pydantic schema, the YAML loader with file:line marks,
and the starter-map writer."""
