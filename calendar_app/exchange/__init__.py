"""The only importer of exchangelib: account factory, item mapping, error translation."""
