"""Backend files: each runs one benchmark (imported by path, in process or in the env worker)."""
