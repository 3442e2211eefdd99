"""The bearer token the live tests' servers require (a module of its own: `from conftest import`
finds whichever conftest was imported first when several test folders run in one session)."""

TOKEN = "test-token-0123456789abcdef"
