"""Allocate university Youth League cadres to county-level posts."""
