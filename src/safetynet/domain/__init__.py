"""Domain basics shared by every area: identity numbers, regions, money and working days."""
