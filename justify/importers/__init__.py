"""Importers: one module per source, each writing the one named graph it owns."""
