"""Black Friday mode: the peak calendar, the capacity planner and pre-warming."""
