"""The workbench's pages, one router per task area."""
