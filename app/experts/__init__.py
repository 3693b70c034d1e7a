"""Tech-town experts (科技镇长团成员): professors and researchers seconded to towns."""
