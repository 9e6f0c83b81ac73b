"""Clients for the live sources: arXiv, Hugging Face daily papers, GitHub star counts."""
