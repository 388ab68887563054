VERSION = "base"
