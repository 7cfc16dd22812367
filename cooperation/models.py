"""Partner agencies, events, topics, memoranda and initiatives."""
