"""Innovation studios (劳模/工匠人才/职工创新工作室) inside enterprises."""
