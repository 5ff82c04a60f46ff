"""What analysts read besides SQL: the Markdown digest, the weekly HTML report and the exports."""
