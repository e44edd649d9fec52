"""PNG charts for the chats, drawn with matplotlib in a helper process (see ``process``)."""
