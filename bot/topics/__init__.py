"""Topics: reading and checking a topic an admin writes, and topics as a config file."""
