"""What several test folders share and no product or benchmark module should hold."""
