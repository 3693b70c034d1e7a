"""Technical needs posted by studios (需求 / 发单)."""
