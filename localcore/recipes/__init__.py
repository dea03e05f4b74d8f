"""One module per recipe; each exposes ``ROUTES``, the CDI endpoints it serves."""
