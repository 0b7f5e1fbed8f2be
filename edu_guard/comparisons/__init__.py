"""Comparisons (数据比对, 四查三比对): outside lists against the registry."""
