"""Small scripts for maintaining the project (not part of the lenet package)."""
