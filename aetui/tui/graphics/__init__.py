"""How pictures are drawn in this terminal: the display mode, the graphics protocol chosen, the images."""
