"""Domain rules that span several repositories; they know no HTTP and never commit."""
