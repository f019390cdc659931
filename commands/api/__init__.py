"""`/api/v1/`: measures and their months for ERP and BI tools, on the bot's own aiohttp server, with
bearer tokens admins make in Slack (`/measure api-token`). docs/api.md says how to use it."""
