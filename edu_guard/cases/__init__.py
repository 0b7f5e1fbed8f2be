"""控辍保学 (dropout control): dropout cases, the four-step machine, home visits."""
