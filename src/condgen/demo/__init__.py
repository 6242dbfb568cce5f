"""The demo page: a local web server that tries the registered champions."""
