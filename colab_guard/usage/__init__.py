"""What the readings mean, for both processes: cost and why a GPU sits idle, accelerator hours, the
memory trend. Pure functions and small accumulators over readings; standard library only."""
