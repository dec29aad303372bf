"""The rep's calendar: views over one range model, the editor, conflicts, activity and status."""
