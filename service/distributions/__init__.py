"""Parametric families (torch.distributions' vocabulary): their KL divergences in closed form
where one is known, by seeded Monte Carlo otherwise."""
