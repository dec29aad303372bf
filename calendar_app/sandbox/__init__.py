"""A local stand-in for Exchange (EWS over HTTPS with NTLM). Imports none of the app's layers."""
