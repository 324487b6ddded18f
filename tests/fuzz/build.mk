# placeholder: owned by its module
