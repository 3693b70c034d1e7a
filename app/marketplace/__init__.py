"""The order marketplace (发单 / 接单): publishing, taking, inviting and confirming a taker."""
