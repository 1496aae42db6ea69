"""What the API shows and accepts, one module per resource. Client details pass through the
consent policy: a field of a category the caller may not see is null, and
`visible_categories` says which it may."""
