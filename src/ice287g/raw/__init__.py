"""Stage 2, bytes to raw tables: a workbook's container checked and its cells read, its layout
recognised, and its rows loaded into DuckDB's ``raw_*`` tables as ICE wrote them (no cleaning); the
registered reference tables (Census, FBI) loaded beside them."""
