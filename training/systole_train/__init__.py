"""Training of Systole's short-axis segmentation network (after Bai et al., JCMR 2018)."""
