"""Reading input tables from any supported source and validating them column by column."""
