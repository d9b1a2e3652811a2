print("hotline: not built yet")
