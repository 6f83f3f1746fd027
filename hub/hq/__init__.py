"""HQ: monitor intake across the chain, act on what is stuck, run the chain's configuration."""
