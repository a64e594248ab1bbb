"""OpenAI-compatible endpoints: profiles and keys, the client, pacing, the platform API."""
