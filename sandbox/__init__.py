"""An offline Telegram Bot API emulator with a control API and a web console."""
