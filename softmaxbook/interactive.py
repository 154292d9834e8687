"""Interactive figures: live in a kernel, kernel-free on the website."""
