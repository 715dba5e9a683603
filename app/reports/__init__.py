"""Renderers: reports and exports as files people open (spreadsheets, PDFs), from data the
services have already read. Nothing here touches the database."""
