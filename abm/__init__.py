"""Safe City ABM: crime, policing and city-wide CCTV on a street graph (Mesa)."""

__version__ = "0.1.0"
