"""studio-match: matchmaking between innovation studios and tech-town experts (科技镇长团)."""
