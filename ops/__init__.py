"""Operations scripts (backups)."""
