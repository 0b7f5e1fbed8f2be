"""送教上门: education delivered at home to children who cannot attend school."""
