"""Renderers: a Report to text. The Rich table is for people; every other format is
written with plain writes so that pipes get exactly the bytes they expect."""
