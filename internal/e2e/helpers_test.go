package e2e

import "govmail/internal/config"

type configT = config.Config
