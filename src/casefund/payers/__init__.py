"""Program parameters (effective-dated, cited) and the user's contracts."""
