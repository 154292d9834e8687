"""Figures of the chapters, one module per chapter (ch1 ... ch4); chapter cells call them."""
