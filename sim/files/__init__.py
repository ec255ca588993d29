"""Files: reading what users give (with size limits) and writing outputs safely."""
