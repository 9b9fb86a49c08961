"""The golden log: stored events of every event type, as production stores hold them."""
