VERSION = "head"
